package io.avatarserver.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay in front of a real server (the database), to take it away and bring it back: {@link #cut()}
 * closes every relayed connection and stops listening, so connecting is refused, as when the database
 * host is down; {@link #restore()} listens again on the same port. {@link #hold()} keeps connections
 * open but relays nothing until {@link #release()}: a database that stops answering.
 */
public final class TcpProxy implements AutoCloseable {

  private final InetSocketAddress upstream;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private volatile ServerSocket listener;
  private boolean held;
  private int port;

  private final java.util.concurrent.atomic.AtomicLong fromUpstream = new java.util.concurrent.atomic.AtomicLong();
  private volatile long holdAt = Long.MAX_VALUE;

  public TcpProxy(InetSocketAddress upstream) {
    this.upstream = upstream;
    restore();
  }

  public int port() {
    return port;
  }

  /** Listens (again) on the proxy's port. */
  public synchronized void restore() {
    try {
      ServerSocket socket = new ServerSocket();
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      port = socket.getLocalPort();
      listener = socket;
      Thread accept = new Thread(() -> acceptLoop(socket), "proxy-accept-" + port);
      accept.setDaemon(true);
      accept.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The database is gone: relayed connections are closed and new ones refused. */
  public synchronized void cut() {
    closeQuietly(listener);
    sockets.forEach(TcpProxy::closeQuietly);
    sockets.clear();
  }

  /** The database stops answering, connections left open: what is relayed waits until {@link #release()}. */
  public synchronized void hold() {
    held = true;
  }

  /**
   * Holds ({@link #hold()}) once {@code bytes} more have been relayed from the upstream server: a server
   * that stops in the middle of an answer.
   */
  public synchronized void holdAfter(long bytes) {
    holdAt = fromUpstream.get() + bytes;
  }

  /** Relays what waited, and everything after it. */
  public synchronized void release() {
    held = false;
    holdAt = Long.MAX_VALUE;
    notifyAll();
  }

  private synchronized void awaitRelease() throws InterruptedException {
    while (held) {
      wait();
    }
  }

  private void acceptLoop(ServerSocket socket) {
    while (!socket.isClosed()) {
      try {
        Socket client = socket.accept();
        Socket server = new Socket();
        try {
          server.connect(upstream, 5_000);
        } catch (IOException e) {
          closeQuietly(client);
          continue;
        }
        sockets.add(client);
        sockets.add(server);
        pump(client, server, false);
        pump(server, client, true);
      } catch (IOException closed) {
        return;
      }
    }
  }

  /** Bytes relayed from the upstream server to its clients so far. */
  public long bytesFromUpstream() {
    return fromUpstream.get();
  }

  private void pump(Socket from, Socket to, boolean download) {
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        for (int n; (n = in.read(buffer)) > 0; ) {
          awaitRelease();
          out.write(buffer, 0, n);
          if (download && fromUpstream.addAndGet(n) >= holdAt) {
            hold();
          }
        }
      } catch (IOException | InterruptedException ignored) {
        // One side closed: close both below.
      } finally {
        closeQuietly(from);
        closeQuietly(to);
        sockets.remove(from);
        sockets.remove(to);
      }
    }, "proxy-pump");
    thread.setDaemon(true);
    thread.start();
  }

  private static void closeQuietly(AutoCloseable closeable) {
    if (closeable != null) {
      try {
        closeable.close();
      } catch (Exception ignored) {
        // Closing is all we want.
      }
    }
  }

  @Override
  public void close() {
    cut();
  }
}
