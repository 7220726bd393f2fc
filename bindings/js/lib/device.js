'use strict';
/** Devices: `cpu(0)`, `gpu(1)`, `cpu_pinned(0)`, as MXNet spells them; strings in that form work everywhere. */
const errors = require('./errors');

// Device type names and the C ABI's flags (MXNet's Context::DeviceType).
const TYPES = Object.freeze({ cpu: 1, gpu: 2, cpu_pinned: 3 });
const NAMES = new Map(Object.entries(TYPES).map(([name, flag]) => [flag, name]));

/** A device: a type ('cpu', 'gpu', 'cpu_pinned') and an id. */
class Device {
  constructor(type, id = 0) {
    if (!Object.prototype.hasOwnProperty.call(TYPES, type)) {
      throw new errors.ValueError(`[polymix] unknown device type ${JSON.stringify(type)}: expected cpu, gpu or ` +
                                  'cpu_pinned');
    }
    if (!Number.isInteger(id) || id < 0) {
      throw new errors.ValueError(`[polymix] device id must be an integer >= 0, given ${id}`);
    }
    this.type = type;
    this.id = id;
    Object.freeze(this);
  }

  /** The C ABI's device type flag. */
  get typeFlag() {
    return TYPES[this.type];
  }

  /** MXNet's spelling, e.g. "gpu(1)". */
  toString() {
    return `${this.type}(${this.id})`;
  }

  /** Whether two devices are the same. */
  equals(other) {
    const device = toDevice(other);
    return device.type === this.type && device.id === this.id;
  }

  /** A Device from the C ABI's type flag and id. */
  static fromFlags(flag, id) {
    return new Device(NAMES.get(flag) || 'cpu', id);
  }
}

/** A Device from a Device, "cpu", "gpu(1)", {type, id}, or undefined (the CPU). */
function toDevice(value) {
  if (value === undefined || value === null) return CPU;
  if (value instanceof Device) return value;
  if (typeof value === 'string') {
    const match = /^\s*(cpu_pinned|cpu|gpu)\s*(?:\(\s*(\d+)\s*\))?\s*$/.exec(value);
    if (!match) {
      throw new errors.ValueError(`[polymix] cannot read device ${JSON.stringify(value)}: expected e.g. ` +
                                  '"cpu", "cpu(0)", "gpu(1)"');
    }
    return new Device(match[1], match[2] === undefined ? 0 : Number(match[2]));
  }
  if (typeof value === 'object' && typeof value.type === 'string') return new Device(value.type, value.id || 0);
  throw new errors.TypeError(`[polymix] expected a device ("cpu", "gpu(0)", a Device), given ${typeof value}`);
}

const CPU = new Device('cpu', 0);

/** The CPU (MXNet's mx.cpu()). */
function cpu(id = 0) {
  return new Device('cpu', id);
}

/** GPU `id` (MXNet's mx.gpu(id)); using it needs a CUDA build (`builtWithCuda()`). */
function gpu(id = 0) {
  return new Device('gpu', id);
}

/** Page-locked host memory (MXNet's mx.cpu_pinned()). */
function cpuPinned(id = 0) {
  return new Device('cpu_pinned', id);
}

module.exports = { Device, toDevice, cpu, gpu, cpuPinned };
