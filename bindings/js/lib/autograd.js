'use strict';
/**
 * Autograd (MXNet's mx.autograd): operators run inside record() are recorded when an input is a variable
 * (attachGrad) or computed from one; backward() writes gradients into the variables' `grad` buffers, grad()
 * returns them. Recording and training mode are per thread in the core; on the JS thread they are set for
 * the duration of a synchronous function.
 */
const native = require('./native');
const errors = require('./errors');
const { handleOf, wrapHandle, GRAD_REQS } = require('./ndarray');

// Runs fn with the recording and training flags set, restoring the previous ones afterwards.
function withFlags(where, recording, training, fn) {
  if (typeof fn !== 'function') throw new errors.TypeError(`[${where}] expected a function`);
  const previousRecording = native.setRecording(recording);
  const previousTraining = native.setTraining(training);
  let result;
  try {
    result = fn();
  } finally {
    native.setRecording(previousRecording);
    native.setTraining(previousTraining);
  }
  if (result && typeof result.then === 'function') {
    throw new errors.TypeError(`[${where}] the function returned a Promise: recording covers synchronous code ` +
                               'only (operators after an await would run unrecorded)');
  }
  return result;
}

/** Runs fn recording operators for autograd (training mode unless trainMode is false); returns fn's result. */
function record(fn, { trainMode = true } = {}) {
  return withFlags('record', true, trainMode, fn);
}

/** Runs fn without recording (inside record()); training mode off unless trainMode is true. */
function pause(fn, { trainMode = false } = {}) {
  return withFlags('pause', false, trainMode, fn);
}

/** Runs fn in training mode (Dropout drops, BatchNorm uses batch statistics), recording unchanged. */
function trainMode(fn) {
  return withFlags('trainMode', native.isRecording(), true, fn);
}

/** Runs fn in prediction mode, recording unchanged. */
function predictMode(fn) {
  return withFlags('predictMode', native.isRecording(), false, fn);
}

/** Whether operators are being recorded now. */
function isRecording() {
  return native.isRecording();
}

/** Whether training mode is on now. */
function isTraining() {
  return native.isTraining();
}

/**
 * Marks arrays as variables (MXNet's mark_variables): gradients[i] (optional) becomes the gradient buffer of
 * variables[i]; gradReqs is one of 'write', 'add', 'null' or an array of them.
 */
function markVariables(variables, gradients = null, gradReqs = 'write') {
  const reqs = (Array.isArray(gradReqs) ? gradReqs : variables.map(() => gradReqs)).map((req) => {
    if (!Object.prototype.hasOwnProperty.call(GRAD_REQS, req)) {
      throw new errors.ValueError(`[markVariables] grad_req must be 'write', 'add' or 'null', given ${req}`);
    }
    return GRAD_REQS[req];
  });
  native.markVariables(variables.map((v) => handleOf(v, 'markVariables')),
                       gradients === null ? null : gradients.map((g) => g && handleOf(g, 'markVariables')), reqs);
}

function heads(value, where) {
  const list = Array.isArray(value) ? value : [value];
  return list.map((head) => handleOf(head, where));
}

function headGradHandles(headGrads, where) {
  if (headGrads === null || headGrads === undefined) return null;
  return (Array.isArray(headGrads) ? headGrads : [headGrads]).map((g) => g && handleOf(g, where));
}

/**
 * Differentiates recorded heads (an NDArray or an array) and writes the gradients of the variables they depend
 * on into their `grad` buffers. Options: headGrads (default ones), retainGraph (keep the graph for another
 * backward), createGraph (record the backward pass, for higher-order gradients), trainMode (default true).
 */
function backward(head, { headGrads = null, retainGraph = false, createGraph = false, trainMode = true } = {}) {
  native.backward(heads(head, 'backward'), headGradHandles(headGrads, 'backward'), retainGraph, createGraph,
                  trainMode);
}

/**
 * The gradients of heads with respect to `variables` (MXNet's autograd.grad), without touching any grad
 * buffer; returns an array of NDArrays (one NDArray if `variables` is one). Options as backward();
 * retainGraph defaults to createGraph.
 */
function grad(head, variables, { headGrads = null, retainGraph, createGraph = false, trainMode = true } = {}) {
  const single = !Array.isArray(variables);
  const list = single ? [variables] : variables;
  const handles = native.grad(heads(head, 'grad'), headGradHandles(headGrads, 'grad'),
                              list.map((v) => handleOf(v, 'grad')),
                              retainGraph === undefined ? createGraph : retainGraph, createGraph, trainMode);
  const result = handles.map((handle) => handle && wrapHandle(handle));
  return single ? result[0] : result;
}

module.exports = { record, pause, trainMode, predictMode, isRecording, isTraining, markVariables, backward, grad };
