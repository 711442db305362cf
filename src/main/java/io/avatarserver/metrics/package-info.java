/**
 * The server's own Micrometer meters (uploads, bytes, sweep, missing files), beside those of Vert.x
 * and the JVM.
 */
package io.avatarserver.metrics;
