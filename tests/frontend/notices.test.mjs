// The notice list of frontend/notices.js (no DOM: the board is plain data) and the close
// notices of frontend/transport.js. Run by node --test tests/frontend/ (pytest runs it too).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { NoticeBoard, refusalText } from '../../frontend/notices.js';
import { closeNotice, joinLink } from '../../frontend/transport.js';
import { CLOSE_CODES } from '../../frontend/wire.gen.js';

const bad = { topic: 'csv', level: 'error', text: 'bad.csv was not loaded: row 3: …' };

test('a newer notice about a topic replaces the older one; other topics stay', () => {
  const board = new NoticeBoard();
  board.notify(bad);
  board.notify({ topic: 'connection', level: 'warning', text: 'reconnecting…' });
  board.notify({ topic: 'csv', level: 'error', text: 'other.csv was not loaded: row 9' });
  assert.deepEqual(board.notices.map((n) => [n.topic, n.text]), [
    ['connection', 'reconnecting…'], ['csv', 'other.csv was not loaded: row 9']]);
});

test('the same notice again is the one already shown (not announced twice)', () => {
  const seen = [];
  const board = new NoticeBoard((notices) => seen.push(notices.length));
  const first = board.notify({ topic: 'connection', level: 'warning', text: 'reconnecting…' });
  assert.equal(board.notify({ topic: 'connection', level: 'warning', text: 'reconnecting…' }), first);
  assert.notEqual(board.notify({ topic: 'connection', level: 'error', text: 'reconnecting…' }), first);
  assert.deepEqual(seen, [1, 1]);
});

test('clearing a topic removes only its notice (a good CSV load clears the CSV error)', () => {
  const board = new NoticeBoard();
  board.notify(bad);
  board.notify({ topic: 'command', level: 'error', text: 'Refused: learning_rate: too big' });
  board.clear('csv');
  board.clear('nothing-here');
  assert.deepEqual(board.notices.map((n) => n.topic), ['command']);
});

test('dismissing removes that notice by its id, not a newer one of the same topic', () => {
  const board = new NoticeBoard();
  const first = board.notify(bad);
  const second = board.notify({ ...bad, text: 'again' });
  board.dismiss(first);  // already replaced: nothing happens
  assert.equal(board.about('csv')?.id, second);
  board.dismiss(second);
  assert.deepEqual(board.notices, []);
});

test('a notice never times out: it is still there after any wait', async () => {
  const board = new NoticeBoard();
  board.notify(bad);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(board.notices.length, 1);
  assert.equal(board.about('csv')?.text, bad.text);
});

test('every change is reported once to the listener, a no-op change is not', () => {
  const seen = [];
  const board = new NoticeBoard((notices) => seen.push(notices.map((n) => n.topic)));
  board.notify(bad);
  board.clear('other');
  board.clear('csv');
  assert.deepEqual(seen, [['csv'], []]);
});

test('a notice without a topic, a known level or text is refused, naming what is wrong', () => {
  const board = new NoticeBoard();
  assert.throws(() => board.notify({ ...bad, topic: '' }), /notice\.topic/);
  assert.throws(() => board.notify({ ...bad, level: 'fatal' }), /notice\.level/);
  assert.throws(() => board.notify({ ...bad, text: '  ' }), /notice\.text/);
  assert.deepEqual(board.notices, []);
});

test('a refusal names its field when it has one', () => {
  assert.equal(refusalText({ field: 'hyper.learning_rate', message: 'too big' }), 'hyper.learning_rate: too big');
  assert.equal(refusalText({ field: null, message: 'say hello first' }), 'say hello first');
});

test('a close by the server is said with its reason, or in words for a known code', () => {
  const flood = closeNotice(CLOSE_CODES.FULL, 'too many messages per second', 'presenter');
  assert.match(flood?.text ?? '', /closed the connection: too many messages per second\./);
  assert.equal(flood?.topic, 'server');
  const token = closeNotice(CLOSE_CODES.FORBIDDEN, '', 'presenter');
  assert.match(token?.text ?? '', /key does not open the session.*new session/);
  assert.ok(closeNotice(CLOSE_CODES.POLICY, '', 'viewer')?.action, 'a protocol close offers a reload');
  assert.equal(closeNotice(1006, '', 'presenter'), null, 'a dropped network needs no close notice');
  assert.match(closeNotice(4999, 'maintenance.', 'viewer')?.text ?? '', /: maintenance\. The page/);
});

test('a /join/ path gives the code as written, and a code only when it can be one', () => {
  assert.deepEqual(joinLink('/join/abc234'), { given: 'abc234', code: 'ABC234' });
  assert.deepEqual(joinLink('/join/ab/cd'), { given: 'ab/cd', code: null });
  assert.deepEqual(joinLink('/join/%3Cb%3E/'), { given: '<b>', code: null });
  assert.deepEqual(joinLink('/join/%E0%A4%A'), { given: '%E0%A4%A', code: null });
  assert.deepEqual(joinLink('/join/'), { given: '', code: null });
  assert.equal(joinLink('/'), null);
});
