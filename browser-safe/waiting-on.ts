// What an unfinished saga waits on, read from its latest event by the summary's fold, so that a
// stuck saga says why. Free of imports: the saga list's filter (in the browser too) reads it.
//   retrying:    a step or compensation failed and is retried, attempt RETRYING_FROM_ATTEMPT or later
//   breaker:     its last attempt was refused by an open circuit breaker and will be retried
//   participant: a step or compensation started with a timeout (or timed out) and has not answered
//   silent:      nothing announced when the next event is due (an attempt started without a
//                timeout, a retry in its first backoffs, the next step after a success)
//   operator:    a compensation was given up: the saga ended failed and needs an operator
//   paused:      an operator paused it (its owner answered a pause command); never stuck
export const WAITING_ON = ["retrying", "breaker", "participant", "silent", "operator", "paused"] as const;
export type WaitingOn = (typeof WAITING_ON)[number];

/** From this attempt on, a saga still failing and retrying is "retrying repeatedly". */
export const RETRYING_FROM_ATTEMPT = 3;
