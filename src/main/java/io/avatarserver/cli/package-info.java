/** The command-line commands besides serving: minting tokens and creating users for load tests. */
package io.avatarserver.cli;
