/** Registers the handler of the query `name`. */
export function registerQuery(name: string, handler: (args: any) => any): void;
/** Answers the pending query, if the host has one now. */
export function answerPendingQuery(waitingOn: number[]): void;
