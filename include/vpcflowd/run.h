#ifndef VPCFLOWD_RUN_H
#define VPCFLOWD_RUN_H

/* vpcflowd run -c FILE: argv[0] is "run" (or the program). Returns the exit status. */
int vf_run_main(int argc, char **argv);

#endif
