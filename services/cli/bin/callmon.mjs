#!/usr/bin/env node
// `callmon`: see ../launcher.mjs for how it starts (a cached bundle of the sources).
import { launch } from '../launcher.mjs';

await launch(process.argv.slice(2));
