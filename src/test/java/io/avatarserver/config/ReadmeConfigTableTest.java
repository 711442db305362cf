package io.avatarserver.config;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

@DisplayName("The README's configuration table is the settings table")
class ReadmeConfigTableTest {

  private static final String HEADER = "| setting | environment | default | allowed | meaning |";

  /** The rows of the table in the README's "## Configuration" section, keyed by their first cell. */
  private static Map<String, String> readmeRows() throws IOException {
    List<String> lines = Files.readAllLines(Path.of("README.md"));
    int section = lines.indexOf("## Configuration");
    assertFalse(section < 0, "README.md has no '## Configuration' section");
    int end = section + 1;
    while (end < lines.size() && !lines.get(end).startsWith("## ")) {
      end++;
    }
    List<String> body = lines.subList(section + 1, end);
    int header = body.indexOf(HEADER);
    assertFalse(header < 0, "the Configuration section has no table headed " + HEADER);
    assertEquals(1, body.stream().filter(HEADER::equals).count(), "the Configuration section has one such table");
    Map<String, String> rows = new LinkedHashMap<>();
    for (String line : body.subList(header + 2, body.size())) {
      if (!line.startsWith("|")) {
        break;
      }
      String key = line.split("\\|")[1].trim();
      assertEquals(null, rows.put(key, line), key + " is listed twice");
    }
    return rows;
  }

  @Test
  @DisplayName("Every setting is listed once, with the table's environment variable(s), default, range and doc,"
    + " in the table's order; nothing else is listed")
  void readmeTableIsTheSettingsTable() throws IOException {
    Map<String, String> readme = readmeRows();
    Map<String, String> expected = new LinkedHashMap<>();
    for (Setting setting : Setting.values()) {
      expected.put("`" + setting.key() + "`", setting.markdownRow());
    }
    List<String> missing = new ArrayList<>(expected.keySet());
    missing.removeAll(readme.keySet());
    List<String> extra = new ArrayList<>(readme.keySet());
    extra.removeAll(expected.keySet());
    String table = Stream.of(Setting.values()).map(Setting::markdownRow).collect(Collectors.joining("\n"));
    assertEquals(List.of(), missing, () -> "settings missing from the README; its table should be:\n" + table);
    assertEquals(List.of(), extra, "rows in the README that are no setting");
    for (Map.Entry<String, String> row : expected.entrySet()) {
      assertEquals(row.getValue(), readme.get(row.getKey()), "the README's row of " + row.getKey());
    }
    assertEquals(List.copyOf(expected.keySet()), List.copyOf(readme.keySet()), "the README lists them in the table's order");
  }

  @Test
  @DisplayName("A row shows the key, every environment name, the default as written and the range")
  void rowFormat() {
    assertEquals("| `storage.sweepGraceSeconds` | `AVATAR_STORAGE_SWEEP_GRACE_SECONDS` (or `AVATAR_SWEEP_GRACE_SECONDS`)"
        + " | `3600` | 0 – 31536000 | " + Setting.STORAGE_SWEEP_GRACE_SECONDS.doc() + " |",
      Setting.STORAGE_SWEEP_GRACE_SECONDS.markdownRow());
    assertEquals("| `database.url` | `AVATAR_DATABASE_URL` (or `AVATAR_DB_URL`) | empty | "
        + Setting.DATABASE_URL.kind().allowed() + " | " + Setting.DATABASE_URL.doc() + " |",
      Setting.DATABASE_URL.markdownRow());
    assertEquals("| `storage.minFreeBytes` | `AVATAR_STORAGE_MIN_FREE_BYTES` | `104857600` | ≥ 0 | "
      + Setting.STORAGE_MIN_FREE_BYTES.doc() + " |", Setting.STORAGE_MIN_FREE_BYTES.markdownRow());
  }
}
