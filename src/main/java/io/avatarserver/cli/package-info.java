/** The command-line tools besides {@code serve}: minting tokens and creating users, on the server's configuration. */
package io.avatarserver.cli;
