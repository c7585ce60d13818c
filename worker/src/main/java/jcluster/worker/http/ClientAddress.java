package jcluster.worker.http;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

import java.net.InetSocketAddress;

/** The client's address: the peer's, or the one a trusted proxy's PROXY protocol header gave ({@link ProxyHeader}). */
public final class ClientAddress {
    static final AttributeKey<InetSocketAddress> KEY = AttributeKey.valueOf("jcluster.client");

    private ClientAddress() {
    }

    public static InetSocketAddress of(Channel ch) {
        InetSocketAddress proxied = ch.hasAttr(KEY) ? ch.attr(KEY).get() : null;
        if (proxied != null) {
            return proxied;
        }
        return ch.remoteAddress() instanceof InetSocketAddress peer ? peer : null;
    }
}
