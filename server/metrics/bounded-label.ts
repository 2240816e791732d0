// Label values that come from the data (a saga type, a pair, a topic) are bounded: the first
// `max` distinct values are kept, any later one is reported as "other", so that a producer
// inventing a type per saga cannot blow up the series count. Ids never become labels.
export const OTHER = "other";

export function boundedLabel(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= max) return OTHER;
    seen.add(value);
    return value;
  };
}
