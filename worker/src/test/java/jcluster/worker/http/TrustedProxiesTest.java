package jcluster.worker.http;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.*;

class TrustedProxiesTest {
    @Test
    void cidrsAndBareAddressesAreTrusted() {
        TrustedProxies t = TrustedProxies.parse("10.0.0.0/8, 192.168.1.7,::1");
        assertTrue(t.trusts(new InetSocketAddress("10.200.3.4", 1)));
        assertTrue(t.trusts(new InetSocketAddress("192.168.1.7", 1)));
        assertFalse(t.trusts(new InetSocketAddress("192.168.1.8", 1)));
        assertTrue(t.trusts(new InetSocketAddress("::1", 1)));
        assertFalse(t.trusts(new InetSocketAddress("127.0.0.1", 1)));
    }

    @Test
    void aPartThatIsNoAddressIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrustedProxies.parse("10.0.0.0/8,lb.example"));
        assertTrue(e.getMessage().contains("'lb.example'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrustedProxies.parse(" , "));
        assertThrows(IllegalArgumentException.class, () -> TrustedProxies.parse("10.0.0.0/33"));
    }
}
