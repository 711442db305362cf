import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;

import java.net.URI;

/**
 * The benchmark's object store: s3proxy over a filesystem blob store, as the tests run it, but without
 * signature checks, so that wrk can PUT and GET objects directly (the server's SDK still signs; the
 * store ignores it). Run with the test classpath:
 *   java -cp "$(cat cp.txt)" src/load/s3/StoreServer.java PORT DIR BUCKET
 * Prints "ready" once it answers; stops when its standard input closes.
 */
public final class StoreServer {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    java.nio.file.Files.createDirectories(java.nio.file.Path.of(args[1]));
    FilesystemNio2BlobStore store = new FilesystemNio2BlobStore(args[1]);
    store.createContainer(args[2]);
    S3Proxy proxy = S3Proxy.builder().blobStore(store).endpoint(URI.create("http://127.0.0.1:" + port))
      .awsAuthentication(AuthenticationType.NONE, null, null).build();
    proxy.start();
    while (!"STARTED".equals(proxy.getState())) {
      Thread.sleep(10);
    }
    System.out.println("ready");
    System.out.flush();
    while (System.in.read() != -1) {
      // Until the benchmark closes our input.
    }
    proxy.stop();
  }
}
