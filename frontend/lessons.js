// @ts-check
/**
 * The ready-made lessons: data, not code. Each one is a link — the setup it pins (the keys
 * of links.js: data set, network, seed, hyperparameters), what it hides, projector mode,
 * and where it starts (links.js START_KEYS: paused, a weight selected, a phase reached, a
 * tab) — and a script the page shows beside the network (wiring/lessons.js): numbered
 * steps of what to click (`do`), what to say (`say`), what the class should see (`see`)
 * and a question for the class (`ask`), then what students should now be able to explain.
 * docs/lessons.md is the same script for reading before class; tests/e2e/test_lessons.py
 * follows every step in a browser and checks that the page shows what `see` promises.
 */

/**
 * @typedef {{do: string, say: string, see: string, ask?: string}} LessonStep
 * @typedef {{id: string, title: string, summary: string, link: Record<string, string>,
 *   steps: LessonStep[], explain: string}} Lesson
 */

/**
 * The settings no lesson needs (projector mode hides them anyway; these stay hidden outside
 * it too). The data panel stays: it holds Save (PNG, CSV, JSON) for the end of the class.
 */
const QUIET = 'activation,optimizer,batch-size,regularization,regularization-rate';

/** @type {Lesson[]} */
export const LESSONS = [
  {
    id: 'phases',
    title: 'The four phases of one step',
    summary: 'Forward, loss, backward, update — one weight’s gradient by the chain rule.',
    link: {
      lesson: 'phases', dataset: 'circle', noise: '0', train: '50', points: '200',
      features: 'x1,x2', layers: '3', activation: 'tanh', loss: 'bce', lr: '0.3', batch: '10',
      optimizer: 'sgd', reg: 'none', regRate: '0', seed: '0',
      projector: '1', hide: `${QUIET},speed,sweep-rates,sweep-toggle,loss`,
      start: 'paused', select: '1:0:1', tab: 'output', pace: '2',
    },
    steps: [
      {
        do: 'Point at the network: 2 inputs, 3 hidden neurons, 1 output. Nothing has run yet (step 0).',
        say: 'One training step has four phases. We will run them one at a time on a batch of 10 points.',
        see: 'The phase strip shows Forward, Loss, Backward, Update, none lit yet.',
        ask: 'What does the network have to know to get better at this circle?',
      },
      {
        do: 'Press “1 phase” (shift + →).',
        say: 'Forward pass: the ringed focus point flows left to right; every neuron adds up w·a plus its bias and squashes it.',
        see: 'Forward is lit; the caption names the focus point and the output it gets.',
        ask: 'Which class will the network say this point is?',
      },
      {
        do: 'Press “1 phase” again.',
        say: 'Loss: we compare the 10 predictions with their labels; the Loss tab opens by itself with the formula and its numbers.',
        see: 'Loss is lit; the Loss tab shows L = 1/B·Σ ℓ with the batch’s terms.',
        ask: 'Is this loss large or small? Which point costs the most?',
      },
      {
        do: 'Press “1 phase” again.',
        say: 'Backward pass: δ = dL/dz travels from the output back to the inputs; every edge gets its gradient, in its own colours.',
        see: 'Backward is lit; the edges change to the gradient’s colours (purple +, green −), thick where |dL/dw| is large.',
        ask: 'Which edge will change the most?',
      },
      {
        do: 'Open the Inspector tab: it shows the selected weight w, hidden neuron 2 → output.',
        say: 'For one point, ∂ℓ/∂w = δ·a: the output’s error times the activation feeding the edge. The batch strip shows each point’s share; the gradient is their sum.',
        see: 'The chain rule with the focus point’s numbers, and the 10 points’ shares adding up to ∂L/∂w (✓).',
        ask: 'Will this weight go up or down? Presenting: Ask → “Will the selected weight go up or down?”, let them answer, then Reveal — it runs the update.',
      },
      {
        do: 'Press “1 phase” a fourth time (after a Reveal the update has run already).',
        say: 'Update: every weight moves by Δw = −η·∂L/∂w. With η = 0.3 the picture magnifies the changes so we can see them.',
        see: 'Update is lit; the Inspector shows Δw = −η·g with the numbers, and the step counter reads 1.',
        ask: 'Did this step lower the loss on its batch? (The Step tab answers: batch loss before → after.)',
      },
      {
        do: 'Press ↺ replay (←) to show any phase again; then play (space) and let it train.',
        say: 'Training is nothing but these four phases, again and again, on batch after batch.',
        see: 'The output plot turns into a circle within a few hundred steps.',
      },
    ],
    explain: 'Students should now be able to explain what each of the four phases computes, and why a weight’s gradient is the chain rule δ·a summed over the batch.',
  },
  {
    id: 'loss',
    title: 'Squared error or cross-entropy?',
    summary: 'A confidently wrong network: which loss pushes harder to fix it?',
    link: {
      lesson: 'loss', dataset: 'circle', noise: '0', train: '50', points: '500',
      features: 'x1_squared,x2_squared', layers: '', activation: 'tanh', loss: 'bce', lr: '0.03',
      batch: '10', optimizer: 'sgd', reg: 'none', regRate: '0', seed: '21',
      projector: '1', hide: `${QUIET},sweep-rates,sweep-toggle`, show: 'speed,loss,log-scale',
      start: 'paused', phase: 'loss', tab: 'loss',
    },
    steps: [
      {
        do: 'Start: the link has run the forward pass and the loss of step 0; the Loss tab is open.',
        say: 'This network starts badly on purpose (seed 21): one of its two weights has the wrong sign, so it is sure of the wrong class for many points. Point 1 lies inside the circle.',
        see: 'Point 1 has p(own class) ≈ 0.04: 96 % sure of the wrong answer.',
        ask: 'How much should a loss punish a prediction that is confident and wrong?',
      },
      {
        do: 'Point at the two curves: cross-entropy and squared error against p(own class), with their slopes at point 1.',
        say: 'Cross-entropy, −log p, shoots up as p goes to 0; squared error flattens out there. The slope is what the gradient is made of.',
        see: 'At point 1 the cross-entropy slope δ is about three times steeper than the squared-error one, and squared error’s keeps shrinking as p goes to 0.',
        ask: 'Which loss will fix this network faster?',
      },
      {
        do: 'Press play (space) and let it run for a few seconds, then pause.',
        say: 'With cross-entropy the confidently wrong points give the biggest pushes.',
        see: 'The training loss falls fast and the accuracy climbs towards 100 %.',
      },
      {
        do: 'Choose “squared error” in the loss menu.',
        say: 'The network is rebuilt from the same seed: the same confidently wrong start. The first run stays on the loss chart as “previous: cross-entropy”.',
        see: 'Step 0 again; the loss chart keeps the previous run’s curve.',
      },
      {
        do: 'Press “1 phase” twice (forward, loss).',
        say: 'Same point, same wrong confidence; now the loss is squared error on a tanh output.',
        see: 'The Loss tab shows point 1 again, still sure of the wrong class; squared error’s slope there is less than a tenth of cross-entropy’s.',
        ask: 'What happens to a weight whose gradient is nearly 0?',
      },
      {
        do: 'Press play, let it run as long as before, then pause; tick “log” on the loss chart.',
        say: 'The saturated tanh output multiplies the error by 1 − a² ≈ 0: the points that are most wrong barely push.',
        see: 'On the log scale: the squared-error run’s loss hardly moves, while the previous cross-entropy curve dropped by a factor of 20.',
      },
    ],
    explain: 'Students should now be able to explain why cross-entropy corrects confident mistakes quickly while squared error on a saturated output hardly moves: the loss’s slope is the size of the push.',
  },
  {
    id: 'rate',
    title: 'Learning rate × gradient = step',
    summary: 'Too small, about right, too large: the step on the loss landscape, then a sweep.',
    link: {
      lesson: 'rate', dataset: 'plane', noise: '0', train: '50', points: '500',
      features: 'x1,x2', layers: '4,2', activation: 'tanh', loss: 'mse', lr: '0.003', batch: '10',
      optimizer: 'sgd', reg: 'none', regRate: '0', seed: '0',
      projector: '1', hide: `${QUIET},loss`, show: 'speed,sweep-rates,sweep-toggle',
      start: 'paused', tab: 'step', sweep: '0.003,0.03,0.3,3',
    },
    steps: [
      {
        do: 'Press step (→) three times at η = 0.003.',
        say: 'The Step tab draws the batch loss along the direction of the update, and marks where the step landed.',
        see: 'The verdict says undershoot: the step stops far short of the valley.',
        ask: 'How far would we have to go to reach the bottom?',
      },
      {
        do: 'Drag the learning-rate slider to 1 (or click the value and type 1), then press step (→) twice.',
        say: 'The step length is η × ‖g‖: about the same gradient, a rate over 300 times larger.',
        see: 'The verdict says about right: the step lands near the valley.',
      },
      {
        do: 'Drag the slider to 3 and press step (→).',
        say: 'Three times longer again: now the step jumps past the valley and up the other side.',
        see: 'The verdict says overshoot or divergence: the step lands past the valley.',
        ask: 'What will happen if we keep training at this rate?',
      },
      {
        do: 'Press play at η = 3.',
        say: 'Each step lands higher than the last: the loss explodes.',
        see: 'The banner says the run diverged, at which step and at which rate.',
      },
      {
        do: 'Press “Lower η ÷10 and reset” (or drag back to 0.3 and reset).',
        say: 'A smaller rate on the same network from the same seed recovers.',
        see: 'η = 0.3, step 0, the banner gone.',
      },
      {
        do: 'Fold this script (▾ Lesson) to give the sweep room and press Sweep (rates 0.003, 0.03, 0.3, 3).',
        say: 'Four copies of the network, same start and same batches, one per rate, side by side.',
        see: 'Four tiles, one per rate, each with its loss and, once it has stepped, its verdict.',
        ask: 'Which rate ends lowest? Presenting: Ask → “Which learning rate ends lowest after 300 steps?”, let them answer, then Reveal — it runs the 300 steps. Otherwise: play, and pause after a few seconds.',
      },
      {
        do: 'Read the tiles and the loss curves; unfold the script (▸ Lesson) for its last line.',
        say: 'Too small crawls, too large explodes; the best rate is the largest one that still converges.',
        see: 'η = 0.3 has the lowest loss; η = 3 says diverged.',
      },
    ],
    explain: 'Students should now be able to explain that a step is learning rate × gradient, and why a rate too small crawls while a rate too large overshoots the valley and diverges.',
  },
];

/** @param {string | null} id @returns {Lesson | undefined} */
export function lessonById(id) {
  return LESSONS.find((lesson) => lesson.id === id);
}
