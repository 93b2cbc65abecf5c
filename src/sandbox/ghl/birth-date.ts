/**
 * Birth dates come in the formats the DTO lists (YYYY/MM/DD, MM/DD/YYYY, YYYY-MM-DD, MM-DD-YYYY, with
 * `/ - . _` separators) and are kept as midnight UTC ISO strings, as the webhook examples show them.
 */
export function normalizeBirthDate(value: string): string | undefined {
  const yearFirst = /^(\d{4})[/\-._](\d{2})[/\-._](\d{2})$/.exec(value);
  const yearLast = /^(\d{2})[/\-._](\d{2})[/\-._](\d{4})$/.exec(value);
  const [year, month, day] = yearFirst
    ? [yearFirst[1], yearFirst[2], yearFirst[3]]
    : yearLast
      ? [yearLast[3], yearLast[1], yearLast[2]]
      : [undefined, undefined, undefined];
  const iso = year === undefined ? value : `${year}-${month ?? ''}-${day ?? ''}T00:00:00.000Z`;
  const parsed = Date.parse(iso);
  return Number.isNaN(parsed) ? undefined : new Date(parsed).toISOString();
}
