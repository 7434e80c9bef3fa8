#ifndef VPCFLOWD_REPLAY_H
#define VPCFLOWD_REPLAY_H

/* vpcflowd replay ...: argv[0] is "replay". Returns the exit status. */
int vf_replay_main(int argc, char **argv);

#endif
