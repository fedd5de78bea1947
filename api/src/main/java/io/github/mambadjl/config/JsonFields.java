package io.github.mambadjl.config;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Typed access to the fields of one JSON configuration object, with errors naming the field. */
final class JsonFields {

    private final JsonObject object;
    private final String prefix;

    JsonFields(JsonObject object, String prefix) {
        this.object = object;
        this.prefix = prefix;
    }

    Set<String> keys() {
        return object.keySet();
    }

    boolean has(String name) {
        JsonElement element = object.get(name);
        return element != null && !element.isJsonNull();
    }

    String fieldName(String name) {
        return prefix + name;
    }

    JsonFields object(String name) {
        if (!has(name)) {
            return new JsonFields(new JsonObject(), prefix + name + ".");
        }
        JsonElement element = object.get(name);
        if (!element.isJsonObject()) {
            throw new ConfigException(fieldName(name), "expected a JSON object, got " + element);
        }
        return new JsonFields(element.getAsJsonObject(), prefix + name + ".");
    }

    int requiredInt(String name) {
        if (!has(name)) {
            throw new ConfigException(fieldName(name), "is required but missing");
        }
        return toInt(name, object.get(name));
    }

    int intValue(String name, int defaultValue) {
        return has(name) ? toInt(name, object.get(name)) : defaultValue;
    }

    Integer tokenId(String name, Integer defaultValue) {
        if (!object.has(name)) {
            return defaultValue;
        }
        JsonElement element = object.get(name);
        if (element.isJsonNull()) {
            return null;
        }
        if (element.isJsonArray()) {
            JsonArray array = element.getAsJsonArray();
            if (array.isEmpty()) {
                return null;
            }
            return toInt(name, array.get(0));
        }
        return toInt(name, element);
    }

    double doubleValue(String name, double defaultValue) {
        return has(name) ? toDouble(name, object.get(name)) : defaultValue;
    }

    boolean bool(String name, boolean defaultValue) {
        if (!has(name)) {
            return defaultValue;
        }
        JsonElement element = object.get(name);
        if (element.isJsonPrimitive() && element.getAsJsonPrimitive().isBoolean()) {
            return element.getAsBoolean();
        }
        throw new ConfigException(fieldName(name), "expected true or false, got " + element);
    }

    String string(String name, String defaultValue) {
        if (!has(name)) {
            return defaultValue;
        }
        JsonElement element = object.get(name);
        if (element.isJsonPrimitive() && element.getAsJsonPrimitive().isString()) {
            return element.getAsString();
        }
        throw new ConfigException(fieldName(name), "expected a string, got " + element);
    }

    boolean isString(String name, String value) {
        JsonElement element = object.get(name);
        return element != null
                && element.isJsonPrimitive()
                && element.getAsJsonPrimitive().isString()
                && value.equals(element.getAsString());
    }

    List<Integer> intList(String name) {
        List<Integer> values = new ArrayList<>();
        if (!has(name)) {
            return values;
        }
        JsonElement element = object.get(name);
        if (!element.isJsonArray()) {
            throw new ConfigException(
                    fieldName(name), "expected a list of integers, got " + element);
        }
        for (JsonElement item : element.getAsJsonArray()) {
            values.add(toInt(name, item));
        }
        return values;
    }

    TimeStepLimit timeStepLimit(String name) {
        if (!has(name)) {
            return TimeStepLimit.NONE;
        }
        JsonElement element = object.get(name);
        if (!element.isJsonArray() || element.getAsJsonArray().size() != 2) {
            throw new ConfigException(
                    fieldName(name), "expected a list of two numbers [min, max], got " + element);
        }
        JsonArray array = element.getAsJsonArray();
        try {
            return new TimeStepLimit(toDouble(name, array.get(0)), toDouble(name, array.get(1)));
        } catch (ConfigException e) {
            if (e.getField().equals(fieldName(name))) {
                throw e;
            }
            throw new ConfigException(fieldName(name), e.getMessage());
        }
    }

    private int toInt(String name, JsonElement element) {
        if (element.isJsonPrimitive() && element.getAsJsonPrimitive().isNumber()) {
            try {
                return new BigDecimal(element.getAsString()).intValueExact();
            } catch (ArithmeticException | NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new ConfigException(fieldName(name), "expected an integer, got " + element);
    }

    /**
     * Reads a number, also in the forms Python's JSON writers use for non-finite floats: a bare
     * {@code Infinity}, the string {@code "Infinity"} and {@code {"__float__": "Infinity"}}.
     */
    private double toDouble(String name, JsonElement element) {
        JsonElement value = element;
        if (value.isJsonObject() && value.getAsJsonObject().has("__float__")) {
            value = value.getAsJsonObject().get("__float__");
        }
        if (value.isJsonPrimitive()) {
            JsonPrimitive primitive = value.getAsJsonPrimitive();
            if (primitive.isNumber()) {
                return primitive.getAsDouble();
            }
            if (primitive.isString()) {
                switch (primitive.getAsString()) {
                    case "Infinity", "inf", "+inf", "+Infinity":
                        return Double.POSITIVE_INFINITY;
                    case "-Infinity", "-inf":
                        return Double.NEGATIVE_INFINITY;
                    case "NaN", "nan":
                        return Double.NaN;
                    default:
                        try {
                            return Double.parseDouble(primitive.getAsString());
                        } catch (NumberFormatException e) {
                            // fall through to the error below
                        }
                }
            }
        }
        throw new ConfigException(fieldName(name), "expected a number, got " + element);
    }
}
