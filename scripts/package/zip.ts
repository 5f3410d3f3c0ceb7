// Lists the entries of a zip file (a VSIX is one) from its central directory, without extracting.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, read);
}

/** Entries of the zip at `file`; throws when the file is not a zip or uses zip64 (VSIX files never need it). */
export function listZipEntries(file: string): ZipEntry[] {
  const fd = openSync(file, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    // the end record is 22 bytes plus a comment of up to 65,535 bytes, at the very end of the file
    const tailLength = Math.min(fileSize, 22 + 0xffff);
    const tail = readAt(fd, fileSize - tailLength, tailLength);
    let end = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) { end = i; break; }
    }
    if (end < 0) throw new Error(`${file} is not a zip file (no end-of-central-directory record).`);
    const count = tail.readUInt16LE(end + 10);
    const directorySize = tail.readUInt32LE(end + 12);
    const directoryOffset = tail.readUInt32LE(end + 16);
    if (count === 0xffff || directoryOffset === 0xffffffff) throw new Error(`${file} is a zip64 file, which is not supported here.`);

    const directory = readAt(fd, directoryOffset, directorySize);
    const entries: ZipEntry[] = [];
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (directory.readUInt32LE(at) !== CENTRAL_FILE_HEADER) throw new Error(`${file}: central directory entry ${i} is damaged.`);
      const compressedSize = directory.readUInt32LE(at + 20);
      const size = directory.readUInt32LE(at + 24);
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      const name = directory.toString('utf8', at + 46, at + 46 + nameLength);
      entries.push({ name, size, compressedSize });
      at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}
