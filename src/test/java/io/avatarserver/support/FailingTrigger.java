package io.avatarserver.support;

import org.h2.api.Trigger;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * An H2 row trigger that fails the save of an avatar row whose size is {@link #FAILING_SIZE}: a real
 * database error inside the server's transaction. (H2 has no deferred triggers; on PostgreSQL the
 * tests use a deferred constraint trigger, which fails at COMMIT itself.)
 */
public final class FailingTrigger implements Trigger {

  public static final int FAILING_SIZE = 4242;
  /** Position of size_bytes in the avatars table. */
  private static final int SIZE_COLUMN = 3;

  @Override
  public void fire(Connection conn, Object[] oldRow, Object[] newRow) throws SQLException {
    if (newRow != null && ((Number) newRow[SIZE_COLUMN]).longValue() == FAILING_SIZE) {
      throw new SQLException("injected failure while saving the avatar row", "XX000");
    }
  }
}
