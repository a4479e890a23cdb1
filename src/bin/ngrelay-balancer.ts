#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { balancerMain } from '../balancer/main.js';

void balancerMain(hideBin(process.argv));
