// @ts-check
/**
 * Reading the server's catalogue (GET /api/options): which activation a layer has, which
 * output activation and value range a loss comes with, and their formulas. The page keeps
 * no copy of these facts; every view asks here.
 *
 * @module catalogue
 */

/**
 * @typedef {object} ActivationEntry
 * @property {string} name @property {string} title
 * @property {string} formula      e.g. "a = tanh(z)"
 * @property {string} derivative   e.g. "da/dz = 1 − a²"
 * @property {(number | null)[] | null} range  [low, high] of a = f(z); null: unbounded end
 */

/**
 * @typedef {object} LossEntry
 * @property {string} name @property {string} problem @property {string} title
 * @property {string} output_activation  sigmoid, tanh, softmax or linear
 * @property {number[] | null} output_range  [low, high] of the output, null if unbounded
 * @property {string} formula  @property {string} grad_output  @property {string} output_derivative
 * @property {string} delta
 */

/**
 * @typedef {object} Catalogue  the parts of GET /api/options read here
 * @property {ActivationEntry[]} activations
 * @property {LossEntry[]} losses
 * @property {{name: string, title: string, rule: string, hyperparameters: string[]}[]} optimizers
 * @property {{name: string, penalty: string, gradient: string}[]} regularizations
 * @property {Record<string, number[]>} limits
 * @property {LossCurves} [loss_curves]
 */

/**
 * Both binary losses as functions of p, the predicted probability of a point's own class
 * (one point, B = 1): its term ℓ, the slope dℓ/dp and δ = dℓ/dz, on a grid of p.
 * @typedef {{p: number[], losses: Record<string, {loss: number[], slope: number[], delta: number[]}>}} LossCurves
 */

/**
 * @typedef {{network?: {loss?: string | null, problem?: string | null,
 *   activation?: string | string[]}}} NetworkConfigLike
 */

/**
 * The loss entry of `config` (its loss, else the first loss for its problem).
 * @param {Catalogue | null | undefined} catalogue @param {NetworkConfigLike | null | undefined} config
 * @returns {LossEntry | undefined}
 */
export function lossOf(catalogue, config) {
  const network = config?.network ?? {};
  const losses = catalogue?.losses ?? [];
  return losses.find((loss) => loss.name === network.loss)
    ?? losses.find((loss) => loss.problem === network.problem);
}

/**
 * The name of layer `layer`'s activation (0 = first hidden layer; layer `layers − 1` is the
 * output layer, whose activation follows from the loss).
 * @param {Catalogue | null | undefined} catalogue @param {NetworkConfigLike | null | undefined} config
 * @param {number} layer @param {number} layers
 * @returns {string}
 */
export function activationNameOf(catalogue, config, layer, layers) {
  if (layer === layers - 1) return lossOf(catalogue, config)?.output_activation ?? 'linear';
  const activation = config?.network?.activation;
  if (Array.isArray(activation)) return activation[layer] ?? activation[activation.length - 1] ?? 'tanh';
  return typeof activation === 'string' ? activation : 'tanh';
}

/**
 * The catalogue entry of a hidden activation, by name.
 * @param {Catalogue | null | undefined} catalogue @param {string} name
 * @returns {ActivationEntry | undefined}
 */
export function activationEntry(catalogue, name) {
  return (catalogue?.activations ?? []).find((entry) => entry.name === name);
}

/**
 * The right-hand side of a formula "lhs = rhs" (the first " = "), e.g. "1 − a²".
 * @param {string | undefined} formula
 * @returns {string}
 */
export function rightHandSide(formula) {
  if (!formula) return '';
  const at = formula.indexOf(' = ');
  return at < 0 ? formula : formula.slice(at + 3);
}

/**
 * A function mapping raw values onto [−1, 1] for colouring: a bounded range linearly, an
 * unbounded one through tanh (which the page says is a squashed scale).
 * @param {(number | null)[] | null | undefined} range
 * @returns {(value: number) => number}
 */
export function signedScale(range) {
  const low = range?.[0];
  const high = range?.[1];
  if (typeof low === 'number' && typeof high === 'number' && high > low) {
    return (value) => Math.max(-1, Math.min(1, (2 * (value - low)) / (high - low) - 1));
  }
  return (value) => Math.tanh(value);
}

/**
 * The catalogue entry of an optimizer, by name.
 * @param {Catalogue | null | undefined} catalogue @param {string} name
 */
export function optimizerEntry(catalogue, name) {
  return (catalogue?.optimizers ?? []).find((entry) => entry.name === name);
}

/**
 * The catalogue entry of a loss, by name.
 * @param {Catalogue | null | undefined} catalogue @param {string | null | undefined} name
 * @returns {LossEntry | undefined}
 */
export function lossEntry(catalogue, name) {
  return (catalogue?.losses ?? []).find((entry) => entry.name === name);
}

/**
 * A loss curve's value at p (linear between the grid's points, clamped to its ends).
 * @param {LossCurves | null | undefined} curves @param {string} loss  e.g. "bce"
 * @param {'loss' | 'slope' | 'delta'} key @param {number} p
 * @returns {number}  NaN without that curve or for a p that is not a number
 */
export function curveAt(curves, loss, key, p) {
  const grid = curves?.p ?? [];
  const values = curves?.losses?.[loss]?.[key];
  if (!values || grid.length === 0 || !Number.isFinite(p)) return NaN;
  if (p <= grid[0]) return values[0];
  const last = grid.length - 1;
  if (p >= grid[last]) return values[last];
  let i = 0;
  while (grid[i + 1] < p) i += 1;
  const t = (p - grid[i]) / (grid[i + 1] - grid[i]);
  return values[i] + t * (values[i + 1] - values[i]);
}
