// A bound counted in whole things (batches, keys, partitions) is refused where it is set
// when it is not a whole number of at least one: a zero or a fraction would stall a consumer.

/** Returns `value`, or throws a RangeError naming the bound. */
export function countBound(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a whole number ≥ 1, got ${value}`);
  return value;
}
