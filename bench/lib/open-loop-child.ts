/**
 * Entry point of the open-loop generator's own process (bench/lib/open-loop-process.ts): reads the
 * options (bodies included) from the file named first, runs the open loop, writes its result to
 * the file named second.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { runOpenLoop, type OpenLoopOptions } from './load.js';

const [optionsPath, resultPath] = process.argv.slice(2);
if (optionsPath === undefined || resultPath === undefined) throw new Error('usage: open-loop-child.ts <options.json> <result.json>');
// Written by runOpenLoopInChild from a typed OpenLoopOptions, in the same run.
const options = JSON.parse(readFileSync(optionsPath, 'utf8')) as OpenLoopOptions;
writeFileSync(resultPath, JSON.stringify(await runOpenLoop(options)));
