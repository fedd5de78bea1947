package io.github.mambadjl.nativeops;

import io.github.mambadjl.nativeops.CpuKernels.InstructionSet;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs every test of a class with the CPU library's paths capped at an instruction set, so that a
 * subclass of a kernel test covers the paths that this machine would not take by itself.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Inherited
@ExtendWith(CappedAt.Cap.class)
@interface CappedAt {

    /**
     * The highest instruction set the tests may use.
     *
     * @return the cap
     */
    InstructionSet value();

    /** Sets the cap before each test and lifts it after. */
    final class Cap implements BeforeEachCallback, AfterEachCallback {

        @Override
        public void beforeEach(ExtensionContext context) {
            InstructionSet cap =
                    context.getRequiredTestClass().getAnnotation(CappedAt.class).value();
            CpuKernels.limitInstructionSet(cap);
        }

        @Override
        public void afterEach(ExtensionContext context) {
            CpuKernels.limitInstructionSet(InstructionSet.AVX512);
        }
    }
}
