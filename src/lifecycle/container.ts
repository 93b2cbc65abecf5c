/**
 * The container's public face: the composition root itself is `wiring/compose.ts`, one file per part
 * beside it.
 */
export { createContainer, type Container, type ContainerOptions, type ProcessMode } from './wiring/compose.js';
export { scheduleContactSync } from './wiring/queues.js';
