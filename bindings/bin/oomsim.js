#!/usr/bin/env node
// The oomsim CLI entry point (package bin). The implementation is bindings/src/cli/main.ts, built to bindings/dist.
import { main } from '../dist/cli/main.js';

process.exitCode = main(process.argv.slice(2));
