package jcluster.worker.http;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class AccessLogTest {
    @Test
    void loggedValuesCannotForgeALineOrAField() {
        StringBuilder sb = new StringBuilder();
        AccessLog.quoted(sb, "a\"b\\c\nd\u00e9");
        assertEquals("a\\x22b\\x5cc\\x0ad\\xc3\\xa9", sb.toString());
    }

    @Test
    void formatsAreNamed() {
        assertEquals(AccessLog.Format.JSON, AccessLog.Format.of("json"));
        assertEquals(AccessLog.Format.COMBINED, AccessLog.Format.of("combined"));
        assertThrows(IllegalArgumentException.class, () -> AccessLog.Format.of("common"));
    }
}
