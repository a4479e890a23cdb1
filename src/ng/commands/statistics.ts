import { statisticsReport } from '../../call/StatisticsReport.js';
import type { Services } from '../../Services.js';
import type { NgDict } from '../NgRequest.js';

export function statistics(s: Services): NgDict {
  return { statistics: statisticsReport(s.registry) };
}
