package jcluster.worker.http;

/**
 * What a connection's pipeline adds around the app, each null when off: the access log, the sources trusted to send a
 * PROXY protocol header, and compression.
 */
public record Features(AccessLog accessLog, TrustedProxies proxy, Compression compression) {
    public static final Features NONE = new Features(null, null, null);
}
