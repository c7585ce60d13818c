package jcluster.master.ops;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RequestRatesTest {
    static final long SECOND = 1_000_000_000L;

    @Test
    void aRateNeedsAnEarlierSampleOfTheSameCounterThatDidNotGoBack() {
        RequestRates r = new RequestRates();
        r.sample(SECOND);
        assertEquals(-1, r.total(100));
        assertEquals(-1, r.worker(1, 40));
        r.sample(3 * SECOND);
        assertEquals(150, r.total(400));
        assertEquals(30, r.worker(1, 100));
        assertEquals(-1, r.worker(2, 7), "a new worker");
        r.sample(4 * SECOND);
        assertEquals(-1, r.worker(1, 10), "a counter that went back");
        assertEquals(3, r.worker(2, 10));
        r.sample(5 * SECOND);
        assertEquals(-1, r.total(500), "the total was not sampled last time");
    }
}
