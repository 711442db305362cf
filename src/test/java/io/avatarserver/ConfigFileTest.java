package io.avatarserver;

import io.avatarserver.config.ServerConfig;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ConfigFileTest {

  @Test
  @DisplayName("conf/config.json spells out exactly the built-in defaults, so it documents them")
  void configFileHoldsTheDefaults() throws Exception {
    JsonObject file = new JsonObject(Files.readString(Path.of("conf/config.json")));
    assertEquals(ServerConfig.fromJson(new JsonObject()), ServerConfig.fromJson(file));
  }
}
