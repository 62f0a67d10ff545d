/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The attestio command: one file per subcommand, each exporting
 * int cmd_<name>(int argc, char **argv) with argv[0] = "<name>".
 * Exit codes (documented in attestio --help and every subcommand's --help):
 */
#ifndef ATTESTIO_CLI_H
#define ATTESTIO_CLI_H

#define EXIT_OK		0	/* success; verify: every record checked out */
#define EXIT_FAIL	1	/* verify: a record failed a check */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_NOTPM	3	/* no TPM, or the TPM refused */
#define EXIT_NOMOD	4	/* attestio.ko not loaded / sysfs write refused */
#define EXIT_IO		5	/* a file or device could not be read/written */
#define EXIT_REFUND	6	/* settle: too few settled rounds, deposits refunded */

int cmd_provision(int argc, char **argv);
int cmd_enroll(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_setup(int argc, char **argv);
int cmd_measurements(int argc, char **argv);
int cmd_settle(int argc, char **argv);
int cmd_verify_report(int argc, char **argv);
int cmd_eventlog(int argc, char **argv);
int cmd_tls_key(int argc, char **argv);

#endif
