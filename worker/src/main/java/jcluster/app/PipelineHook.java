package jcluster.app;

import io.netty.channel.ChannelPipeline;

/**
 * Full control over a connection, for a {@link Handler} that also implements this: called once per connection
 * after the server built its pipeline and before the first byte is read. The server's handlers carry the names
 * below, in this order; add yours before {@link #APP} to see each decoded request (a
 * {@code io.netty.handler.codec.http.FullHttpRequest}) first, or replace {@link #APP} to take over answering.
 * Removing or reordering the others gives up what they guarantee (timeouts, RFC 9112 validation, body limits).
 */
public interface PipelineHook {
    /** Keep-alive, header and drain timeouts. */
    String TIMEOUTS = "timeouts";
    /** The strict HTTP/1.1 request decoder. */
    String DECODER = "decoder";
    /** The response encoder. */
    String ENCODER = "encoder";
    /** Checks of each request head (Host, framing, limits). */
    String GUARD = "guard";
    /** Collects a request's body into one message. */
    String AGGREGATOR = "aggregator";
    /** Runs the {@link Handler} and frames its response. */
    String APP = "app";

    void configure(ChannelPipeline pipeline);
}
