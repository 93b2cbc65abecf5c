/** Business-day arithmetic (Monday to Friday, UTC), for follow-up due dates. Pure. */

/** `from` plus `days` business days, at 17:00 UTC of that day; 0 days means the same (or next business) day. */
export function addBusinessDays(from: Date, days: number): Date {
  const result = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate(), 17, 0, 0, 0));
  while (isWeekend(result)) result.setUTCDate(result.getUTCDate() + 1);
  let left = days;
  while (left > 0) {
    result.setUTCDate(result.getUTCDate() + 1);
    if (!isWeekend(result)) left -= 1;
  }
  return result;
}

function isWeekend(date: Date): boolean {
  const day = date.getUTCDay();
  return day === 0 || day === 6;
}
