package io.avatarserver.config;

/**
 * A configuration the server refuses to start with. Its message is one line, meant for the operator
 * as it is: it names the setting, where the value came from (the file or the environment variable),
 * the value, and what is allowed. No stack trace adds anything to it.
 */
public final class ConfigException extends IllegalArgumentException {

  public ConfigException(String message) {
    super("invalid configuration: " + message);
  }
}
