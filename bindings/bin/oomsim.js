#!/usr/bin/env node
// The oomsim CLI entry point (package bin). The implementation is bindings/src/cli/main.ts, built to bindings/dist.
import { mainAsync } from '../dist/cli/main.js';

process.exitCode = await mainAsync(process.argv.slice(2));
