package io.avatarserver;

import io.avatarserver.config.ConfigLoader;
import io.avatarserver.config.ServerConfig;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ConfigFileTest {

  @Test
  @DisplayName("conf/config.json loads cleanly (no unknown key, every value allowed) and agrees with the built-in defaults")
  void configFileHoldsTheDefaults() {
    // No environment: the loader reads conf/config.json itself, as the server does, with all its checks.
    assertEquals(ServerConfig.fromJson(new JsonObject()), ConfigLoader.load(Map.of()));
  }
}
