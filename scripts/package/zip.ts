// Lists the entries of a zip file (a VSIX is one) from its central directory, without extracting.
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
  /** 0 stored, 8 deflated */
  method: number;
  /** where the entry's local header starts */
  localHeaderOffset: number;
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
      const method = directory.readUInt16LE(at + 10);
      const compressedSize = directory.readUInt32LE(at + 20);
      const size = directory.readUInt32LE(at + 24);
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      const localHeaderOffset = directory.readUInt32LE(at + 42);
      const name = directory.toString('utf8', at + 46, at + 46 + nameLength);
      entries.push({ name, size, compressedSize, method, localHeaderOffset });
      at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

const LOCAL_FILE_HEADER = 0x04034b50;

/** Extracts the zip's files whose names pass `keep` under `destination`; returns how many it wrote. */
export function extractZip(file: string, destination: string, keep: (name: string) => boolean = () => true): number {
  const entries = listZipEntries(file).filter((e) => !e.name.endsWith('/') && keep(e.name));
  const fd = openSync(file, 'r');
  try {
    for (const entry of entries) {
      const target = path.resolve(destination, entry.name);
      if (!target.startsWith(path.resolve(destination) + path.sep)) throw new Error(`${file}: entry ${entry.name} points outside the destination.`);
      const header = readAt(fd, entry.localHeaderOffset, 30);
      if (header.readUInt32LE(0) !== LOCAL_FILE_HEADER) throw new Error(`${file}: local header of ${entry.name} is damaged.`);
      const dataStart = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
      const raw = readAt(fd, dataStart, entry.compressedSize);
      let data: Buffer;
      if (entry.method === 0) data = raw;
      else if (entry.method === 8) data = inflateRawSync(raw);
      else throw new Error(`${file}: entry ${entry.name} uses compression method ${entry.method}, only stored and deflated are supported.`);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, data);
    }
    return entries.length;
  } finally {
    closeSync(fd);
  }
}
