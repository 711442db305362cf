/**
 * The AvatarRepository adapters: PostgreSQL (reactive) and JDBC (embedded H2) on one SQL core with
 * versioned migrations, and a short-lived row cache in front of either.
 */
package io.avatarserver.db;
