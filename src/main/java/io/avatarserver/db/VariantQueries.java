package io.avatarserver.db;

/** The SQL of the {@code variants} table, per dialect; columns read by position. */
record VariantQueries(String find, String list, String insert, String deleteBelow, String deleteKey) {

  private static final String COLUMNS =
    "user_id, version, side, format_name, first_frame, storage_key, size_bytes, sha256";

  static final VariantQueries POSTGRES = new VariantQueries(
    "SELECT " + COLUMNS + " FROM variants WHERE user_id = $1 AND version = $2 AND side = $3 AND format_name = $4"
      + " AND first_frame = $5",
    "SELECT " + COLUMNS + " FROM variants WHERE user_id = $1 AND version = $2",
    "INSERT INTO variants (" + COLUMNS + ", created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    "DELETE FROM variants WHERE user_id = $1 AND version < $2 RETURNING storage_key",
    "DELETE FROM variants WHERE storage_key = $1");

  static final VariantQueries H2 = new VariantQueries(
    "SELECT " + COLUMNS + " FROM variants WHERE user_id = ? AND version = ? AND side = ? AND format_name = ?"
      + " AND first_frame = ?",
    "SELECT " + COLUMNS + " FROM variants WHERE user_id = ? AND version = ?",
    "INSERT INTO variants (" + COLUMNS + ", created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "SELECT storage_key FROM OLD TABLE (DELETE FROM variants WHERE user_id = ? AND version < ?)",
    "DELETE FROM variants WHERE storage_key = ?");
}
