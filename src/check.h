/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_CHECK_H
#define MAKINI_CHECK_H

/*
 * The check verb: says who it runs as, which configuration it finds, every
 * problem in it with the paths involved, and whether the receiver could
 * store an event now. It creates nothing. Returns the exit status: 0 when
 * usable, 1 when not.
 */
int check_main(char *const *env);

#endif
