// What an uploaded file is, told by its content: the name and the type the browser sent are what the sender says,
// so a PDF renamed photo.png is a PDF. Only the kinds a register may accept (register/schema.ts FILE_TYPES) are
// recognised; anything else is refused.
import type { FILE_TYPES } from '../../register/schema.ts';

export type FileType = (typeof FILE_TYPES)[number];

export const MEDIA_TYPES: Readonly<Record<FileType, string>> = {
  pdf: 'application/pdf',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  heic: 'image/heic',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  odt: 'application/vnd.oasis.opendocument.text',
};

const ascii = (bytes: Uint8Array, at: number, text: string) =>
  bytes.length >= at + text.length && Buffer.from(bytes.buffer, bytes.byteOffset + at, text.length).toString('latin1') === text;

/** The file's kind by its first bytes (and, for zip containers, the names inside); null when it is none we know. */
export function sniffFileType(bytes: Uint8Array): FileType | null {
  if (ascii(bytes, 0, '%PDF-')) return 'pdf';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => bytes[i] === b)) return 'png';
  if (ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WEBP')) return 'webp';
  if (ascii(bytes, 4, 'ftyp') && ['heic', 'heix', 'mif1', 'msf1', 'heim', 'heis'].some((brand) => ascii(bytes, 8, brand))) return 'heic';
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return zipDocument(bytes);
  return null;
}

/** A zip is a Word document when it holds word/document.xml, an OpenDocument text when its mimetype entry says so. */
function zipDocument(bytes: Uint8Array): FileType | null {
  const entries = zipEntries(bytes);
  if (!entries) return null;
  const names = new Set(entries.map((e) => e.name));
  if (names.has('[Content_Types].xml') && names.has('word/document.xml')) return 'docx';
  const mimetype = entries.find((e) => e.name === 'mimetype');
  if (mimetype && storedContent(bytes, mimetype) === MEDIA_TYPES.odt) return 'odt';
  return null;
}

interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly size: number;
  readonly localOffset: number;
}

/** The central directory's entries (read from the end record), or null for anything that is not a whole zip. */
function zipEntries(bytes: Uint8Array): ZipEntry[] | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end record is 22 bytes plus a comment of up to 65535.
  let end = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (view.getUint32(at, true) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) return null;
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count && i < 10_000; i++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) return null;
    const nameLength = view.getUint16(at + 28, true);
    const skip = nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    if (at + 46 + nameLength > bytes.length) return null;
    entries.push({
      name: Buffer.from(bytes.buffer, bytes.byteOffset + at + 46, nameLength).toString('utf8'),
      method: view.getUint16(at + 10, true),
      size: view.getUint32(at + 20, true),
      localOffset: view.getUint32(at + 42, true),
    });
    at += 46 + skip;
  }
  return entries;
}

/** An uncompressed entry's content as text (OpenDocument stores its mimetype so). */
function storedContent(bytes: Uint8Array, entry: ZipEntry): string | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.localOffset;
  if (entry.method !== 0 || entry.size > 200 || at + 30 > bytes.length || view.getUint32(at, true) !== 0x04034b50) return null;
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  if (start + entry.size > bytes.length) return null;
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, entry.size).toString('latin1');
}
