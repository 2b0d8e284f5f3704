import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleDocx, sampleJpeg, sampleOdt, samplePdf, samplePng, zip } from '../../test/helpers/sample-files.ts';
import { sniffFileType } from './file-type.ts';
import { safeFileName } from './prepare-submission.ts';

test('each kind a register may accept is told by its content', () => {
  assert.equal(sniffFileType(samplePdf()), 'pdf');
  assert.equal(sniffFileType(samplePng()), 'png');
  assert.equal(sniffFileType(sampleJpeg()), 'jpeg');
  assert.equal(sniffFileType(sampleDocx()), 'docx');
  assert.equal(sniffFileType(sampleOdt()), 'odt');
  assert.equal(sniffFileType(Buffer.concat([Buffer.from('RIFF\u0010\u0000\u0000\u0000WEBPVP8 ', 'latin1'), Buffer.alloc(16)])), 'webp');
  assert.equal(sniffFileType(Buffer.concat([Buffer.from('\u0000\u0000\u0000\u0018ftypheic', 'latin1'), Buffer.alloc(16)])), 'heic');
});

test('anything else is nothing we accept: text, HTML, an executable, a zip that is no document, a cut-off zip', () => {
  assert.equal(sniffFileType(Buffer.from('Dear Sir or Madam')), null);
  assert.equal(sniffFileType(Buffer.from('<html><script>alert(1)</script>')), null);
  assert.equal(sniffFileType(Buffer.from('MZ\u0090\u0000\u0003', 'latin1')), null);
  assert.equal(sniffFileType(zip([{ name: 'payload.exe', content: 'MZ' }])), null);
  assert.equal(sniffFileType(sampleDocx().subarray(0, 200)), null);
  assert.equal(sniffFileType(new Uint8Array(0)), null);
  assert.equal(sniffFileType(Buffer.from([0xff, 0xd8])), null);
});

test('a stored name has no folders or control characters and ends in the extension of what the file is', () => {
  assert.equal(safeFileName('C:\\Users\\jane\\CV 2026.pdf', 'pdf'), 'CV 2026.pdf');
  assert.equal(safeFileName('../../etc/passwd', 'pdf'), 'passwd.pdf');
  assert.equal(safeFileName('cv.png', 'pdf'), 'cv.png.pdf', 'a PDF renamed .png is named as the PDF it is');
  assert.equal(safeFileName('photo.JPEG', 'jpeg'), 'photo.JPEG');
  assert.equal(safeFileName('a\u0000b"\n.docx', 'docx'), 'ab.docx');
  assert.equal(safeFileName('', 'png'), 'upload.png');
});
