/**
 * The server's configuration. {@link io.avatarserver.config.Setting} is the one table of settings: key,
 * kind and allowed values, default, environment variable and documentation of each.
 * {@link io.avatarserver.config.ConfigLoader} layers defaults, the JSON file ({@code conf/config.json}
 * or {@code AVATAR_CONFIG}) and the environment, refusing unknown keys and values out of range with a
 * one-line {@link io.avatarserver.config.ConfigException}; the result is the immutable
 * {@link io.avatarserver.config.ServerConfig} the rest of the server reads. The README's
 * configuration table is the same table, rendered (a test keeps them equal).
 */
package io.avatarserver.config;
