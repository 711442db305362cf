/**
 * Admission limits shared by every event loop: write rates per client address and per user, and uploads in flight,
 * in the whole server and per user.
 */
package io.avatarserver.limits;
