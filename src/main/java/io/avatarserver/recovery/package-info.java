/**
 * The recovery sweep: removes what crashes and failed cleanups leave behind and reports avatar rows
 * whose file is missing.
 */
package io.avatarserver.recovery;
