// Binary arrays from Python: {buffer: DataView, dtype: "float32", shape: [n, m]}.

/** @typedef {{buffer: DataView | ArrayBuffer | Uint8Array, dtype: string, shape: number[]}} WireArray */

const TYPES = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
};

/**
 * Decode a wire array into a typed array, honouring the view's byteOffset and byteLength
 * (a DataView over a shared message buffer does not start at 0).
 * @param {WireArray | null | undefined} wire
 * @returns {{data: ArrayLike<number>, shape: number[]} | null}
 */
export function decodeArray(wire) {
  if (!wire || !wire.buffer) return null;
  const Type = TYPES[wire.dtype];
  if (!Type) throw new Error(`unsupported dtype ${wire.dtype}`);
  const view = wire.buffer;
  const buffer = view instanceof ArrayBuffer ? view : view.buffer;
  const offset = view instanceof ArrayBuffer ? 0 : view.byteOffset;
  const length = view instanceof ArrayBuffer ? view.byteLength : view.byteLength;
  const count = length / Type.BYTES_PER_ELEMENT;
  let data;
  if (offset % Type.BYTES_PER_ELEMENT === 0) {
    data = new Type(buffer, offset, count);
  } else {
    // unaligned: copy the bytes first
    data = new Type(new Uint8Array(buffer, offset, length).slice().buffer);
  }
  return { data, shape: wire.shape };
}
