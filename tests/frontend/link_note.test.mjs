// The slow-link note (frontend/wiring/link_note.js): shown from a frame without maps on,
// hidden again NOTE_FRAMES frames after the last one.
import test from 'node:test';
import assert from 'node:assert/strict';

import { NOTE_FRAMES, linkNote } from '../../frontend/wiring/link_note.js';

test('the note shows while frames come without their maps, and goes after', () => {
  const note = { hidden: true };
  const onFrame = linkNote(note);
  onFrame({ mapsSkipped: false });
  assert.equal(note.hidden, true, 'frames with maps: no note');
  onFrame({ mapsSkipped: true });
  assert.equal(note.hidden, false, 'a frame without maps: the note');
  for (let i = 1; i < NOTE_FRAMES; i += 1) onFrame({ mapsSkipped: false });
  assert.equal(note.hidden, false, 'still recent');
  onFrame({ mapsSkipped: false });
  assert.equal(note.hidden, true, `${NOTE_FRAMES} frames with maps: gone`);
});
