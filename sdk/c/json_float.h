/* Shortest round-trip digits of a double; not part of the public API. */
#ifndef CONTINUUM_JSON_FLOAT_H
#define CONTINUUM_JSON_FLOAT_H

/** The shortest decimal digits of |x| (x finite, not 0) that read back as
 * x, without trailing zeros, into `digits`; |x| = d.ddd * 10^exp10.
 * Returns how many digits. */
int cn_shortest_digits(double x, char digits[18], int *exp10);

#endif
