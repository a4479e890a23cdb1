#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { main } from '../main.js';

void main(hideBin(process.argv));
