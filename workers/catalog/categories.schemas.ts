import { z } from "@hono/zod-openapi";

/** At most this many categories are listed in one tree (the public tree documents the same bound). */
export const MAX_CATEGORIES = 1000;
/** Largest position among siblings: a typo guard, not a business rule. */
export const MAX_CATEGORY_POSITION = 100_000;

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const ID = /^cat_[0-9a-z]{1,40}$/;

const slug = z
	.string()
	.min(1)
	.max(120)
	.regex(SLUG, "Use lowercase letters, digits and single dashes between them.")
	.openapi({ example: "knitwear" });
const name = z.string().trim().min(1).max(100).openapi({ example: "Knitwear" });
const categoryId = z.string().max(64).regex(ID, "Not a category id.").openapi({ example: "cat_0a1b2c3d4e5f6g7h8i9j" });
const parentId = categoryId.nullable().openapi({ description: "The parent category's id; null for a top-level category" });
const position = z
	.number()
	.int()
	.min(0)
	.max(MAX_CATEGORY_POSITION)
	.openapi({ format: "int32", description: "Order among its siblings (then by name)" });

export const CreateCategoryBody = z
	.object({
		name,
		slug: slug.optional().openapi({ description: "Derived from the name when absent" }),
		parent_id: parentId.optional().openapi({ description: "The parent category's id; absent or null for a top-level category" }),
		position: position.optional().openapi({ description: "Default: after its siblings" }),
	})
	.strict()
	.openapi("AdminCreateCategoryRequest");

export const PatchCategoryBody = z
	.object({
		name: name.optional(),
		slug: slug.optional(),
		parent_id: parentId.optional().openapi({
			description: "Moves the category (with its sub-categories) under another one, or to the top with null",
		}),
		position: position.optional(),
	})
	.strict()
	.refine((body) => Object.keys(body).length > 0, "Send at least one field to change.")
	.openapi("AdminPatchCategoryRequest");

const timestamp = z.iso.datetime().max(30);
const count = z.number().int().min(0).max(2_147_483_647).openapi({ format: "int32" });

/** One category as admins see and audit it, without its place in the tree. */
export const AdminCategoryFields = {
	id: categoryId,
	parent_id: categoryId.nullable(),
	slug,
	name: z.string().max(100),
	position,
	product_count: count.openapi({ description: "Products filed directly under this category, whatever their status" }),
	created_at: timestamp,
	updated_at: timestamp,
};

export const AdminCategorySchema = z.object(AdminCategoryFields).openapi("AdminCategory");

type AdminCategoryNodeOut = z.infer<typeof AdminCategorySchema> & { children: AdminCategoryNodeOut[] };

export const AdminCategoryNodeSchema: z.ZodType<AdminCategoryNodeOut> = z
	.object({
		...AdminCategoryFields,
		children: z.array(z.lazy(() => AdminCategoryNodeSchema)).max(MAX_CATEGORIES),
	})
	.openapi("AdminCategoryNode");

export const AdminCategoryTreeSchema = z
	.object({
		data: z.array(AdminCategoryNodeSchema).max(MAX_CATEGORIES),
	})
	.openapi("AdminCategoryTree");
