/* crypto: vectors from node 20's crypto module (NocoBase's own hashing). */
#include "unit.h"

#include "crypto.h"
#include "util.h"

#include <sys/wait.h>

/* node -e 'crypto.scryptSync(pw, salt, 24, {N:16384,r:8,p:1})' with salt the
 * 16-character hex string, printed as salt + hex(key). */
static const struct {
	const char *password;
	const char *stored;
} pw_vectors[] = {
	{"admin123",
	 "0123456789abcdefef463267ba5d15cd06568ce3c0261025c05e1edc7aa7fdae"},
	{"", "a1b2c3d4e5f6071830f9a349437ad310b4528462cbb6cb63cc394e08deceb79d"},
	{"p\xc3\xa4ssw\xc3\xb6rd\xf0\x9f\x98\x80",
	 "ffffffffffffffff3388201ae4c1b6e399c835f8e07f85f9307a602376fba237"},
};

static void test_verify_node_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(pw_vectors) / sizeof(pw_vectors[0]);
	     i++)
		assert_true(crypto_password_verify(pw_vectors[i].password,
						   pw_vectors[i].stored));
}

static void test_verify_long_password(void **state)
{
	char pw[201];
	memset(pw, 'x', 200);
	pw[200] = 0;
	assert_true(crypto_password_verify(
		pw, "deadbeefcafebabecd582f4b0b88016d029370365ef245f035dd5ef1"
		    "ed7c6919"));
}

static void test_verify_wrong(void **state)
{
	const char *s = pw_vectors[0].stored;
	char buf[80];

	assert_false(crypto_password_verify("admin124", s));
	assert_false(crypto_password_verify("admin12", s));
	assert_false(crypto_password_verify("Admin123", s));
	/* one flipped hex digit in the key, then in the salt */
	strcpy(buf, s);
	buf[63] = buf[63] == 'e' ? 'f' : 'e';
	assert_false(crypto_password_verify("admin123", buf));
	strcpy(buf, s);
	buf[0] = '1';
	assert_false(crypto_password_verify("admin123", buf));
}

static void test_verify_malformed(void **state)
{
	const char *s = pw_vectors[0].stored;
	char buf[80];

	assert_false(crypto_password_verify("admin123", NULL));
	assert_false(crypto_password_verify(NULL, s));
	assert_false(crypto_password_verify("admin123", ""));
	/* truncated, extended */
	strcpy(buf, s);
	buf[63] = 0;
	assert_false(crypto_password_verify("admin123", buf));
	strcpy(buf, s);
	strcat(buf, "0");
	assert_false(crypto_password_verify("admin123", buf));
	/* non-hex character; upper-case key (node compares lower hex) */
	strcpy(buf, s);
	buf[20] = 'g';
	assert_false(crypto_password_verify("admin123", buf));
	strcpy(buf, s);
	for (int i = 16; i < 64; i++)
		if (buf[i] >= 'a' && buf[i] <= 'f')
			buf[i] = (char)(buf[i] - 'a' + 'A');
	assert_false(crypto_password_verify("admin123", buf));
	/* an upper-case salt is just another salt: wrong, not malformed */
	strcpy(buf, s);
	buf[10] = 'A';
	assert_false(crypto_password_verify("admin123", buf));
}

static void test_hash_roundtrip(void **state)
{
	char a[65], b[65];

	assert_int_equal(crypto_password_hash("s3cret", a), 0);
	assert_int_equal(strlen(a), 64);
	for (int i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_true(crypto_password_verify("s3cret", a));
	assert_false(crypto_password_verify("s3cret ", a));
	/* a fresh salt each time */
	assert_int_equal(crypto_password_hash("s3cret", b), 0);
	assert_memory_not_equal(a, b, 16);
	assert_true(crypto_password_verify("s3cret", b));
	assert_int_equal(crypto_password_hash(NULL, b), -1);
	assert_string_equal(b, "");
}

static void test_sha256(void **state)
{
	char out[65];
	char big[1000];

	crypto_sha256_hex("", 0, out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e46"
				 "49b934ca495991b7852b855");
	crypto_sha256_hex("abc", 3, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a39"
				 "6177a9cb410ff61f20015ad");
	memset(big, 'a', sizeof(big));
	crypto_sha256_hex(big, sizeof(big), out);
	assert_string_equal(out, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a"
				 "5d134645adb5db1b9737ea3");
}

static void test_secret_and_random(void **state)
{
	char a[65], b[65];
	unsigned char r1[32] = {0}, r2[32] = {0}, zero[32] = {0};

	crypto_new_secret(a);
	crypto_new_secret(b);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	assert_string_not_equal(a, b);
	crypto_random(r1, sizeof(r1));
	crypto_random(r2, sizeof(r2));
	assert_memory_not_equal(r1, zero, sizeof(r1));
	assert_memory_not_equal(r1, r2, sizeof(r1));
	crypto_random(r1, 0);
}

static void test_equal(void **state)
{
	assert_true(crypto_equal("abc", "abc", 3));
	assert_false(crypto_equal("abc", "abd", 3));
	assert_true(crypto_equal("abc", "abd", 2));
	assert_true(crypto_equal("", "x", 0));
}

/* util_random hands out a pool drawn from the kernel: no two draws the
 * same, and a forked child never repeats what its parent hands out next. */
static void test_random_pool(void **state)
{
	unsigned char a[16], b[16], child[16], parent[16];
	int fd[2];
	(void)state;
	util_random(a, sizeof(a));
	util_random(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(pipe(fd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		util_random(child, sizeof(child));
		_exit(write(fd[1], child, sizeof(child)) == sizeof(child) ? 0 : 1);
	}
	util_random(parent, sizeof(parent));
	assert_int_equal(read(fd[0], child, sizeof(child)), sizeof(child));
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_memory_not_equal(child, parent, sizeof(child));
	close(fd[0]);
	close(fd[1]);
	/* a draw larger than the pool's quarter goes to the kernel */
	unsigned char big[200] = {0}, zero[200] = {0};
	util_random(big, sizeof(big));
	assert_memory_not_equal(big, zero, sizeof(big));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_node_vectors),
		cmocka_unit_test(test_verify_long_password),
		cmocka_unit_test(test_verify_wrong),
		cmocka_unit_test(test_verify_malformed),
		cmocka_unit_test(test_hash_roundtrip),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_secret_and_random),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_random_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
