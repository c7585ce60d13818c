package jcluster.worker;

import jcluster.app.AppContext;
import jcluster.app.Handler;
import jcluster.app.Request;
import jcluster.app.Response;
import jcluster.worker.http.Compression;
import jcluster.worker.http.HttpDate;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * {@code --static DIR}: answers {@code GET} and {@code HEAD} for the regular files under DIR (with {@code sendfile}),
 * and hands everything else to the app: other methods, and paths that name no file (a directory included: there is
 * no directory index). Nothing outside DIR is ever served: a path with a {@code ..} or {@code .} segment (encoded or
 * not), a NUL or a bad percent-escape gets 400, and a file that resolves (through symbolic links) outside DIR gets
 * 404. Supports {@code ETag} and {@code Last-Modified} with the conditional fields of RFC 9110 §13 in the order
 * §13.2.2 gives ({@code If-Match} and {@code If-Unmodified-Since}: 412; {@code If-None-Match} and
 * {@code If-Modified-Since}: 304), and a single byte {@code Range} (206, 416) with {@code If-Range}.
 */
final class StaticFiles implements Handler {
    private static final String DEFAULT_TYPE = "application/octet-stream";
    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"), Map.entry("htm", "text/html; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"), Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"), Map.entry("json", "application/json"),
            Map.entry("txt", "text/plain; charset=utf-8"), Map.entry("md", "text/markdown; charset=utf-8"),
            Map.entry("csv", "text/csv; charset=utf-8"), Map.entry("xml", "application/xml"),
            Map.entry("svg", "image/svg+xml"), Map.entry("png", "image/png"), Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"), Map.entry("gif", "image/gif"), Map.entry("webp", "image/webp"),
            Map.entry("avif", "image/avif"), Map.entry("ico", "image/x-icon"), Map.entry("pdf", "application/pdf"),
            Map.entry("wasm", "application/wasm"), Map.entry("woff", "font/woff"), Map.entry("woff2", "font/woff2"),
            Map.entry("mp4", "video/mp4"), Map.entry("webm", "video/webm"), Map.entry("mp3", "audio/mpeg"),
            Map.entry("zip", "application/zip"), Map.entry("gz", "application/gzip"),
            Map.entry("tar", "application/x-tar"), Map.entry("bin", DEFAULT_TYPE));

    private final Path root;
    private final Handler app;
    private final boolean gzipStatic;

    /**
     * {@code root} must be a real path (no symbolic links): what files resolve to is compared with it.
     * @param gzipStatic serve {@code file.gz}, where it lies beside {@code file}, to a client that takes gzip, as
     *                   nginx's {@code gzip_static} (not for a range: that is of the file as it is)
     */
    StaticFiles(Path root, Handler app, boolean gzipStatic) {
        this.root = root;
        this.app = app;
        this.gzipStatic = gzipStatic;
    }

    @Override
    public Response handle(Request req) throws Exception {
        String m = req.method();
        if (!m.equals("GET") && !m.equals("HEAD")) {
            return next(req);
        }
        String rel = relativePath(req.uri());
        if (rel == null) {
            return Response.text(400, "400 Bad Request\n");
        }
        Path file = root.resolve(rel);
        BasicFileAttributes attrs;
        Path real;
        try {
            real = file.toRealPath();
            attrs = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return next(req);
        } catch (IOException e) {
            // a path through a non-directory, a name too long, a loop of links: nothing to serve
            return next(req);
        }
        if (!real.startsWith(root)) {
            return Response.text(404, "404 Not Found\n");
        }
        if (!attrs.isRegularFile()) {
            return next(req);
        }
        try {
            return serve(req, real, attrs.size(), attrs.lastModifiedTime().to(TimeUnit.SECONDS));
        } catch (Forbidden e) {
            return Response.text(403, "403 Forbidden\n");
        } catch (NoSuchFileException e) {
            return next(req);
        }
    }

    private Response next(Request req) throws Exception {
        return app.isBlocking() ? req.offload(() -> app.handle(req)) : app.handle(req);
    }

    private Response serve(Request req, Path file, long size, long mtime) throws IOException {
        String type = contentType(file);
        if (gzipStatic && Compression.compressible(type)) {
            Response gz = req.header("range") == null && Compression.acceptsGzip(req.header("accept-encoding"))
                    ? precompressed(req, file, type) : null;
            return (gz != null ? gz : serve(req, file, size, mtime, type)).header("vary", "accept-encoding");
        }
        return serve(req, file, size, mtime, type);
    }

    /** {@code file.gz}, if it lies beside {@code file} as a regular file: its own validators, the file's type. */
    private Response precompressed(Request req, Path file, String type) throws IOException {
        Path gz = file.resolveSibling(file.getFileName() + ".gz");
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(gz, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return null;
        }
        if (!attrs.isRegularFile()) {
            return null;
        }
        long mtime = attrs.lastModifiedTime().to(TimeUnit.SECONDS);
        String etag = "\"" + Long.toHexString(mtime) + "-" + Long.toHexString(attrs.size()) + "-gz\"";
        Response r = Response.of(200).header("etag", etag).header("last-modified", httpDate(mtime));
        int precondition = precondition(req::header, etag, mtime);
        if (precondition == 412) {
            return Response.text(412, "412 Precondition Failed\n");
        }
        if (precondition == 304) {
            return r.status(304);
        }
        return r.contentType(type).header("content-encoding", "gzip").file(open(gz), 0, attrs.size());
    }

    private Response serve(Request req, Path file, long size, long mtime, String type) throws IOException {
        String etag = "\"" + Long.toHexString(mtime) + "-" + Long.toHexString(size) + "\"";
        String lastModified = httpDate(mtime);
        Response r = Response.of(200).header("etag", etag).header("last-modified", lastModified)
                .header("accept-ranges", "bytes");
        int precondition = precondition(req::header, etag, mtime);
        if (precondition == 412) {
            return Response.text(412, "412 Precondition Failed\n");
        }
        if (precondition == 304) {
            return r.status(304);
        }
        r.contentType(type);
        String range = req.header("range");
        if (range != null && req.method().equals("GET") && ifRangeHolds(req.header("if-range"), etag, mtime)) {
            long[] span = byteRange(range, size);
            if (span == UNSATISFIABLE) {
                return Response.text(416, "416 Range Not Satisfiable\n").header("content-range", "bytes */" + size);
            }
            if (span != null) {
                return r.status(206).header("content-range", "bytes " + span[0] + "-" + span[1] + "/" + size)
                        .file(open(file), span[0], span[1] - span[0] + 1);
            }
        }
        return r.file(open(file), 0, size);
    }

    private static FileChannel open(Path file) throws IOException {
        try {
            // no symbolic link may have replaced the file since it was resolved
            return FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (AccessDeniedException e) {
            throw new Forbidden();
        }
    }

    /** The file exists but this process may not read it. */
    private static final class Forbidden extends IOException {
        Forbidden() {
            super(null, null);
        }
    }

    // Last-Modified for the file served last: formatting a date costs more than the rest of the headers
    private volatile CachedDate lastDate = new CachedDate(Long.MIN_VALUE, "");

    private record CachedDate(long epochSecond, String value) {
    }

    private String httpDate(long epochSecond) {
        CachedDate d = lastDate;
        if (d.epochSecond != epochSecond) {
            d = new CachedDate(epochSecond, HttpDate.format(epochSecond));
            lastDate = d;
        }
        return d.value;
    }

    /**
     * The conditional fields of a GET or HEAD, evaluated in the order of RFC 9110 §13.2.2: 412 when If-Match names
     * no current tag (strong comparison) or, without If-Match, If-Unmodified-Since is before the file's time; else
     * 304 when If-None-Match names the tag (weak comparison) or, without If-None-Match, If-Modified-Since is not
     * before it; else 200. A date that is none of the three HTTP date forms leaves its field ignored.
     */
    static int precondition(Function<String, String> header, String etag, long mtime) {
        String im = header.apply("if-match");
        if (im != null) {
            if (!matches(im, etag, false)) {
                return 412;
            }
        } else {
            Long since = HttpDate.parse(header.apply("if-unmodified-since"));
            if (since != null && mtime > since) {
                return 412;
            }
        }
        String inm = header.apply("if-none-match");
        if (inm != null) {
            return matches(inm, etag, true) ? 304 : 200;
        }
        Long since = HttpDate.parse(header.apply("if-modified-since"));
        return since != null && mtime <= since ? 304 : 200;
    }

    /** A list of entity tags (or {@code *}, which an existing file matches) names {@code etag}. */
    private static boolean matches(String list, String etag, boolean weak) {
        for (String tag : list.split(",")) {
            String t = tag.trim();
            if (t.equals("*") || (weak ? weakEquals(t, etag) : t.equals(etag))) {
                return true;
            }
        }
        return false;
    }

    private static boolean weakEquals(String a, String b) {
        return (a.startsWith("W/") ? a.substring(2) : a).equals(b.startsWith("W/") ? b.substring(2) : b);
    }

    /** If-Range: the range applies only if the validator still matches (strongly, for an entity tag). */
    static boolean ifRangeHolds(String ifRange, String etag, long mtime) {
        if (ifRange == null) {
            return true;
        }
        String v = ifRange.trim();
        if (v.startsWith("\"") || v.startsWith("W/")) {
            return v.equals(etag);
        }
        Long date = HttpDate.parse(v);
        return date != null && date == mtime;
    }

    static final long[] UNSATISFIABLE = new long[0];

    /**
     * The first and last byte of a single {@code bytes=} range over {@code size} bytes; null to ignore the header
     * (malformed, another unit, or several ranges: RFC 9110 lets a server answer 200 with the whole file);
     * {@link #UNSATISFIABLE} for a range wholly past the end.
     */
    static long[] byteRange(String header, long size) {
        String h = header.trim();
        if (!h.regionMatches(true, 0, "bytes=", 0, 6) || h.indexOf(',') >= 0) {
            return null;
        }
        String spec = h.substring(6).trim();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        String a = spec.substring(0, dash).trim();
        String b = spec.substring(dash + 1).trim();
        try {
            if (a.isEmpty()) {
                long suffix = digits(b);
                if (suffix == 0 || size == 0) {
                    return UNSATISFIABLE;
                }
                return new long[] {Math.max(0, size - suffix), size - 1};
            }
            long first = digits(a);
            long last = b.isEmpty() ? Long.MAX_VALUE : digits(b);
            if (last < first) {
                return null;
            }
            if (first >= size) {
                return UNSATISFIABLE;
            }
            return new long[] {first, Math.min(last, size - 1)};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static long digits(String s) {
        if (s.isEmpty() || s.length() > 18 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new NumberFormatException(s);
        }
        return Long.parseLong(s);
    }

    /**
     * The request path as a relative file path, percent-decoded, or null if it must be refused: a bad escape, a NUL,
     * a backslash, or a {@code .} or {@code ..} segment in any spelling. Empty segments ({@code //}) are dropped.
     */
    static String relativePath(String uri) {
        int end = uri.length();
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c == '?' || c == '#') {
                end = i;
                break;
            }
        }
        String raw = uri.substring(0, end);
        if (!raw.startsWith("/")) {
            return null;
        }
        String path;
        try {
            path = percentDecode(raw);
        } catch (IllegalArgumentException e) {
            return null;
        }
        StringBuilder rel = new StringBuilder();
        for (String seg : path.split("/")) {
            if (seg.isEmpty()) {
                continue;
            }
            if (seg.equals(".") || seg.equals("..") || seg.indexOf('\0') >= 0 || seg.indexOf('\\') >= 0) {
                return null;
            }
            if (rel.length() > 0) {
                rel.append('/');
            }
            rel.append(seg);
        }
        return rel.toString();
    }

    private static String percentDecode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("truncated escape");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("bad escape");
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else {
                out.write(c);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not UTF-8");
        }
    }

    static String contentType(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String type = dot < 0 ? null : TYPES.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
        return type != null ? type : DEFAULT_TYPE;
    }

    @Override
    public boolean isBlocking() {
        return false;
    }

    @Override
    public void start(AppContext context) throws Exception {
        app.start(context);
    }

    @Override
    public void stop() {
        app.stop();
    }
}
